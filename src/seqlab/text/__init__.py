"""seqlab.text (exports are added by each module's author as the module lands)."""
