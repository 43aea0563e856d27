# Install librelcon on a host (docs/embedded.md, "Installing"). Included from the Makefile.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   include/relcon.h, lib/librelcon.so.0.x.y (SONAME librelcon.so.0)
#                                                 with the librelcon.so.0 and librelcon.so links, lib/librelcon.a,
#                                                 lib/pkgconfig/relcon.pc, bin/relcon (the CLI)
#   make uninstall [PREFIX=...] [DESTDIR=...]     removes exactly those files
#   make test-install                             installs into a temporary DESTDIR, builds examples/embed_recording
#                                                 against it with pkg-config (dynamic and --static), runs both
#
# Both libraries are made from the objects of `swift build -c release` (the same ones as .build/release/librelcon.so):
# the shared one relinked with the versioned SONAME, the static one pre-linked like the device builds (mk/arm.mk):
# ld -r --gc-sections from the relcon_* roots, every other global made local, so `nm librelcon.a` shows only
# relcon_* globals.

RELCON_VERSION := $(shell sed -n 's/^\#define RELCON_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/relcon.h | paste -sd.)
RELCON_SOVERSION := $(firstword $(subst ., ,$(RELCON_VERSION)))
PREFIX ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib
INST_INCDIR ?= $(PREFIX)/include
INST_BINDIR ?= $(PREFIX)/bin
HOSTLIB := .build/host
HOST_SO := $(HOSTLIB)/librelcon.so.$(RELCON_VERSION)
HOST_A := $(HOSTLIB)/librelcon.a
SPM_OBJS = $(wildcard .build/release/RelConRuntime.build/*.o .build/release/RelConKernelsV3.build/*.o \
	.build/release/RelConKernelsV4.build/*.o .build/release/CRelCon.build/*.o .build/release/CRelConKernels.build/*.o)

# The installed CLI links the Swift standard library statically (a separate SwiftPM build path, --static-swift-stdlib:
# it then needs only libc, libm, libstdc++ and libgcc_s, not the toolchain). INSTALL_CLI_STATIC=0 installs the
# CLI of `make cli` instead (it loads the Swift runtime of the toolchain that built it; test-install uses it: faster).
INSTALL_CLI_STATIC ?= 1
ifeq ($(INSTALL_CLI_STATIC),1)
INSTALL_CLI := .build/static-cli/release/relcon-cli
else
INSTALL_CLI := $(CLI)
endif

.PHONY: host-libs install uninstall test-install install-cli

# Relinked on every call (cheap): `build` decides whether the objects changed.
host-libs: build
	@mkdir -p $(HOSTLIB)
	nm -D --defined-only $(LIB) | awk '$$3 ~ /^relcon_/ {print $$3}' | sort > $(HOSTLIB)/librelcon.exports
	$(CC) -shared -o $(HOST_SO).tmp $(SPM_OBJS) -Wl,--version-script=Sources/relcon-exports.map \
	  -Wl,-soname,librelcon.so.$(RELCON_SOVERSION) -Wl,-z,defs -Wl,--gc-sections -Wl,--strip-all -Wl,-z,noexecstack
	mv $(HOST_SO).tmp $(HOST_SO)
	ld -r --gc-sections $$(sed 's/^/-u /' $(HOSTLIB)/librelcon.exports) $(SPM_OBJS) -o $(HOSTLIB)/librelcon-prelink.o
	objcopy --keep-global-symbols=$(HOSTLIB)/librelcon.exports --strip-unneeded $(HOSTLIB)/librelcon-prelink.o \
	  $(HOSTLIB)/librelcon.o
	rm -f $(HOST_A).tmp && ar rcs $(HOST_A).tmp $(HOSTLIB)/librelcon.o && mv $(HOST_A).tmp $(HOST_A)
	@sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(INST_LIBDIR)|; s|@INCDIR@|$(INST_INCDIR)|; s|@VERSION@|$(RELCON_VERSION)|' \
	  targets/relcon.pc.in > $(HOSTLIB)/relcon.pc

install-cli:
ifeq ($(INSTALL_CLI_STATIC),1)
	swift build -c release --product relcon-cli --static-swift-stdlib --build-path .build/static-cli
else
	$(MAKE) cli
endif

install: host-libs install-cli
	install -d $(DESTDIR)$(INST_INCDIR) $(DESTDIR)$(INST_LIBDIR)/pkgconfig $(DESTDIR)$(INST_BINDIR)
	install -m 644 include/relcon.h $(DESTDIR)$(INST_INCDIR)/relcon.h
	install -m 755 $(HOST_SO) $(DESTDIR)$(INST_LIBDIR)/librelcon.so.$(RELCON_VERSION)
	ln -sfn librelcon.so.$(RELCON_VERSION) $(DESTDIR)$(INST_LIBDIR)/librelcon.so.$(RELCON_SOVERSION)
	ln -sfn librelcon.so.$(RELCON_SOVERSION) $(DESTDIR)$(INST_LIBDIR)/librelcon.so
	install -m 644 $(HOST_A) $(DESTDIR)$(INST_LIBDIR)/librelcon.a
	install -m 644 $(HOSTLIB)/relcon.pc $(DESTDIR)$(INST_LIBDIR)/pkgconfig/relcon.pc
	install -m 755 $(INSTALL_CLI) $(DESTDIR)$(INST_BINDIR)/relcon
	@echo "install: librelcon $(RELCON_VERSION) in $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(INST_INCDIR)/relcon.h $(DESTDIR)$(INST_LIBDIR)/librelcon.so.$(RELCON_VERSION) \
	  $(DESTDIR)$(INST_LIBDIR)/librelcon.so.$(RELCON_SOVERSION) $(DESTDIR)$(INST_LIBDIR)/librelcon.so \
	  $(DESTDIR)$(INST_LIBDIR)/librelcon.a $(DESTDIR)$(INST_LIBDIR)/pkgconfig/relcon.pc $(DESTDIR)$(INST_BINDIR)/relcon

test-install: venv build cli host-libs $(ARM)/recording.csv
	MAKE="$(MAKE) INSTALL_CLI_STATIC=0" Tests/install_test.sh $(RELCON_VERSION) $(ARM)/recording.csv
