"""The plugin's own widgets, one module each: views over the engine's results."""
