"""The frame around the screens: main window, menus, start-up, first run, workspaces, help, backups and sync."""
