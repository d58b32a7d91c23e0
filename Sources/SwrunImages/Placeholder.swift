public enum SwrunImagesModule {}
