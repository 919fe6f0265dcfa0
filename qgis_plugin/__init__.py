"""The QGIS side of the plugin: entry point, dialogs, Processing provider and styling.

Thin over ``core``: it gathers parameters, runs engine steps and shows their results.
"""
