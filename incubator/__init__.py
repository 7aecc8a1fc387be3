"""Three-level incubation bases and the incubation lifecycle. Built by the incubator issue."""
