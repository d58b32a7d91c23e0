public enum SwrunRuntimeModule {}
