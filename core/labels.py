"""Label sets shared by training, export, the stream and the dashboard.

The order is the order of the model's output logits: never reorder, only append
with a new model version.
"""

from typing import Final, Literal

__all__ = ["SENTIMENT_LABELS", "TOPIC_LABELS", "SentimentLabel"]

SentimentLabel = Literal["negative", "neutral", "positive"]

SENTIMENT_LABELS: Final[tuple[SentimentLabel, ...]] = ("negative", "neutral", "positive")

# The 20 topics of the Twitter financial news topic set; label i is line i of its classes.txt.
TOPIC_LABELS: Final[tuple[str, ...]] = (
    "Analyst Update",
    "Fed | Central Banks",
    "Company | Product News",
    "Treasuries | Corporate Debt",
    "Dividend",
    "Earnings",
    "Energy | Oil",
    "Financials",
    "Currencies",
    "General News | Opinion",
    "Gold | Metals | Materials",
    "IPO",
    "Legal | Regulation",
    "M&A | Investments",
    "Macro",
    "Markets",
    "Politics",
    "Personnel Change",
    "Stock Commentary",
    "Stock Movement",
)
