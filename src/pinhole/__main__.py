from pinhole.cli.main import main

main()
