"""The EU Digital Services Act's parts: statements of reasons, notices, appeals, transparency."""
