"""The Commissioner screen: the 11 teams' returns side by side, their import and comparison charts."""
