from relcon_export.cli.main import main

raise SystemExit(main())
