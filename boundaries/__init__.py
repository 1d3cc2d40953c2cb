"""Where people live: the union (ADM4) layer, exposure and spatial overlay."""
