from convoport.cli import main

main()
