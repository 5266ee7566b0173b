"""bedside: a one-button bedside coach for a Raspberry Pi, an SSD1306 OLED and a speaker."""

__version__ = "0.1.0"
