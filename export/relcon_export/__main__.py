from relcon_export.cli import main

raise SystemExit(main())
