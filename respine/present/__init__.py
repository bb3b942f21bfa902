"""Presentation: numbers to display strings (fmt), disclosure control (privacy), table specs,
figure factories, exports and reports. Results in, tables, figures and documents out."""
