"""Every sentence the bot says, in Vietnamese, in one place (STYLE.md 18): one module per feature."""
