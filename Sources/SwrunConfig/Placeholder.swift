public enum SwrunConfigModule {}
