"""The map page (/map), its assets and offline outlines, and the server-drawn picture
(/map.svg)."""
