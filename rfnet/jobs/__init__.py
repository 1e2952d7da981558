"""The jobs behind the rfnet sub-commands: one module per command."""
