"""The panel: screens drawn as one-bit pictures, luma.oled's classes with partial updates, and
a bus that records what a panel is sent."""
