//! Synthetic region generator (in progress).
