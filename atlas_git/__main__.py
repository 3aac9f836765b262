from atlas_git.cli import main

raise SystemExit(main())
