"""Offline sync between one team's laptops: encrypted change bundles and the conflicts they leave.

``base`` holds the per-workspace sync base a bundle's diff is taken against; ``state`` the workspace's own sync
state in its meta (identity, team, bundles sent and applied) and the storage-error translation; ``bundle`` the
bundle file (format, encryption, ``export_bundle``, ``read_header``, the team id); ``merge`` the applying of a
teammate's bundle (``import_bundle``); ``conflicts`` the conflicts an import leaves and resolving them by choice.
They import one another in that order (base ← state ← bundle ← merge; conflicts needs base and state, and merge takes
its labels), never back.
``folder``, on top of bundle and merge, is the team folder: each laptop's latest bundle dropped in a shared folder, and
the teammates' new ones picked up from it.
"""
