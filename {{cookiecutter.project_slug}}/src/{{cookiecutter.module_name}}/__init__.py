"""This project's own code: what the lifecycle library (mllifecycle) cannot know.

conf/ wires each piece in by dotted path (`_target_`); the README's "Your own code"
says where each seam is. Everything else the pipeline runs is the library's.
"""
