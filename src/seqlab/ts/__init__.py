"""seqlab.ts (exports are added by each module's author as the module lands)."""
