import multiprocessing

from desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen build starts its child processes through this entry point
    raise SystemExit(main())
