"""The build wing. ``model`` is its vocabulary (BuildRequest); ``buildx`` is the only
module that imports python_on_whales. This package imports nothing itself."""
