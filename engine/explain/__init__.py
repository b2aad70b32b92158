"""Explanations: proof trees, failure trees and minimal documentation sets over a provenance model."""
