"""Seeing what a car does: pygame drawing (``render``) and the live viewer and video recorder (``viewer``).

Imported only when a picture is asked for, so training never loads pygame.
"""
