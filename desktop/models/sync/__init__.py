"""Offline sync between one team's laptops: encrypted change bundles and the conflicts they leave.

``bundle`` holds the bundle file (format, encryption, ``export_bundle``, ``read_header``, the team id); ``base`` the
per-workspace sync base a bundle's diff is taken against; ``merge`` the applying of a teammate's bundle
(``import_bundle``); ``conflicts`` the conflicts an import leaves and resolving them by choice. They import one
another in that order (base ← bundle ← merge; conflicts needs only base), never back.
"""
