"""Docker-less local runtime: embedded data stores, a template-driven API gateway, an invoker."""
