"""Training callbacks with Keras 3's names, arguments and hooks."""
from .callback import Callback, CallbackList, LambdaCallback
from .checkpoint import BackupAndRestore, ModelCheckpoint
from .history import CSVLogger, History, ProgbarLogger, TerminateOnNaN
from .monitor import EarlyStopping, LearningRateScheduler, MonitorCallback, ReduceLROnPlateau

__all__ = ["Callback", "CallbackList", "LambdaCallback", "BackupAndRestore", "ModelCheckpoint", "CSVLogger",
           "History", "ProgbarLogger", "TerminateOnNaN", "EarlyStopping", "LearningRateScheduler",
           "MonitorCallback", "ReduceLROnPlateau"]
