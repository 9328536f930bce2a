"""seqlab.nn (exports are added by each module's author as the module lands)."""
