"""When to act: rule kinds, versioned rule sets (TOML), pure evaluation, alert lifecycle."""
