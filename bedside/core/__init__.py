"""The pure core: routines, the engine, gestures, nights, screens, and the behaviour that joins
them. It reads no clock, never sleeps and touches no device: time is handed in."""
