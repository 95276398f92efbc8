"""Where a place lies in China, and which province a case belongs to."""
