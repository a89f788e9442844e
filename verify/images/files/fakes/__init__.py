"""Stand-ins for the images no build is obtainable for (server.py; recipes/fakes.py)."""
