"""The streamer's HTTP face: routes in `routes/`, what they share in `deps.py`."""
