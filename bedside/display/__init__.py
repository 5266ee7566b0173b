"""The panel: screens drawn as one-bit pictures (``picture``, from the text engine, the
primitives and the layouts for 64 and 32 rows), luma.oled's classes with partial updates
(``partial``, ``panel``), and a bus that records what a panel is sent (``recording_bus``)."""
