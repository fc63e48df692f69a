"""Offline sync between one team's laptops: encrypted change bundles and the conflicts they leave."""
