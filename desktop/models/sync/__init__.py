"""Offline sync between one team's laptops: encrypted change bundles, merged field by field, and the conflicts they
leave.

``tracking`` is the ledger of what changed here (the triggers that feed it, the capture that gives changes their
clocks); ``base`` the apsw connection and the old sync base's name; ``state`` the workspace's own sync state in its
meta (identity, team, what it has seen of each teammate and each teammate of it, where its copy started) and the
storage-error translation; ``bundle`` the bundle file (what it carries, format, encryption, ``export_bundle``,
``read_header``, the team id); ``records`` the field-by-field merge of a teammate's records; ``merge`` the applying
of a bundle (``import_bundle``, its refusals, its audit); ``conflicts`` the conflicts an import leaves and resolving
them by choice. They import one another in that order (tracking ← base ← state ← bundle ← records ← merge; conflicts
needs base and state, and merge takes its labels), never back.
``folder``, on top of bundle and merge, is the team folder: each laptop's latest bundle dropped in a shared folder, and
the teammates' new ones picked up from it.
"""
