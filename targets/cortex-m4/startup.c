/* Cortex-M4F start-up for the bare-metal images (mps2-an386.ld): vector table, .data copy, .bss clear, FPU on,
 * then main(). What any firmware's start-up must provide before calling librelcon (docs/embedded.md): a stack
 * (the library needs ~8 KB), initialised .data/.bss (librelcon has 16 bytes of .bss), and the FPU enabled
 * (it is built for -mfloat-abi=hard: the first float instruction faults otherwise). */
#include <stdint.h>

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;
extern int main(int argc, char **argv);
void Reset_Handler(void);
void plat_fault(const char *what);

static void hard_fault(void) { plat_fault("HardFault"); }
static void mem_fault(void) { plat_fault("MemManage fault"); }
static void bus_fault(void) { plat_fault("BusFault"); }
static void usage_fault(void) { plat_fault("UsageFault"); }
static void other_irq(void) { plat_fault("unexpected exception"); }

__attribute__((section(".isr_vector"), used)) static void (*const g_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top,
    Reset_Handler, other_irq, hard_fault, mem_fault, bus_fault, usage_fault,
    0, 0, 0, 0, other_irq, other_irq, 0, other_irq, other_irq,
};

void Reset_Handler(void) {
    const uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
    /* CPACR: full access to CP10 and CP11 (the FPU). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    /* SCB->SHCSR: report MemManage, BusFault, UsageFault separately instead of escalating to HardFault. */
    *(volatile uint32_t *)0xE000ED24u |= 7u << 16;
    int rc = main(0, 0);
    extern void plat_exit(int) __attribute__((noreturn));
    plat_exit(rc);
}
