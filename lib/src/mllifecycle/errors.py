"""Errors a stage reports as one clear message instead of a traceback."""


class PipelineError(Exception):
    """A problem the user can fix: bad config, bad data, a failed gate."""


class ConfigError(PipelineError):
    """params.yaml (composed from conf/) does not satisfy its schema."""


class DataError(PipelineError):
    """Input data is missing, unreadable or does not match what the config says."""


class GateError(PipelineError):
    """A data gate found expectations the data does not meet."""


class ArtifactError(PipelineError):
    """A model artifact is missing, incomplete or was modified after packaging."""


class RegistryError(PipelineError):
    """A registry action was refused: unknown version, failed verdict, nothing to roll back to."""


class ContractError(PipelineError):
    """A written artifact (packaged metadata, verdict, monitor summary, prediction log)
    does not match its contract, or has a schema version this code does not read."""


class EngineError(PipelineError):
    """The Dask cluster a stage needs cannot be reached or cannot run this project."""
