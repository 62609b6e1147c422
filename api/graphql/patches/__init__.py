"""What the API relies on inside its libraries, one module per library (STYLE.md): each patch
names the behaviour it fixes, pyproject.toml pins the library's range, and
tests/unit/test_library_patches.py fails in a second if a patched name moves."""
