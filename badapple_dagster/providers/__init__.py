"""Remote AI providers (LLM, TTS, Replicate) behind the stage protocols of ``media.providers``, with a cost
ledger, resilient HTTP calls and explicit fallback chains. Nothing here is imported by the code location at
load time: the assets import what a run needs inside their bodies."""
