"""The seed documents of the development set, recognised by checksum.

The judgments name documents by their seed file names (SEEDS.md); the corpus holds the same
bytes under other names, so a document is matched to its seed by sha256, never by name.
Shared by score_projects.py and score_ranking.py.
"""
import hashlib

SEED_SHA256 = {
    "1228a4880d26823cc3bbd3287ba0ee46a60cde87e12d36a4b3b22d88e823e0c8": "000_6f7f32ac922d616b.txt",
    "53f5dc00396a3b43f005dfe1fdff73c460c2eb53fc2d3d157af68dd6e4ea2a6f": "001_7dfbd0274e94c4c4.txt",
    "50935705ba34fb471a6bcda56d1b6e3681d29c28a857c47102f85db8bc6ee036": "002_406128bfdf89012c.txt",
    "3741d856dfe539b5647c9de435ad69cc059015c3b9891124c57dc5ba62956550": "003_1e5a79295a0b2245.txt",
    "e789f7a6904a380cf0bde36428febee0e356ad0dd0943949db9a7841e0dc6935": "004_f8d9bb840cff3669.txt",
}


def seed_of(path, cache):
    """The seed file name of the document at path (by checksum), or None."""
    if path not in cache:
        try:
            with open(path, "rb") as f:
                cache[path] = SEED_SHA256.get(hashlib.sha256(f.read()).hexdigest())
        except OSError:
            cache[path] = None
    return cache[path]
