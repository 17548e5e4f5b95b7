from monitor.commands.main import main

main()
