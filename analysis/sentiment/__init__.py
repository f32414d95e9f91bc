"""Emotion from text: polarity score, label and discrete emotions, zh and en.

See :mod:`analysis.sentiment.engine` for the model and
:mod:`analysis.sentiment.emotions` for the emotion word lists;
``python -m analysis.sentiment.train`` rebuilds the shipped weights.
"""
from .emotions import EMOTIONS, NEGATIVE_EMOTIONS, detect_emotions
from .engine import (LANGUAGES, NEUTRAL_BAND, LinearSentimentEngine, SentimentEngine,
                     analyse_comments, default_engine, detect_language, score_label)

__all__ = ["EMOTIONS", "NEGATIVE_EMOTIONS", "LANGUAGES", "NEUTRAL_BAND", "LinearSentimentEngine",
           "SentimentEngine", "analyse_comments", "default_engine", "detect_emotions",
           "detect_language", "score_label"]
