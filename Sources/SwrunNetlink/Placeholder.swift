public enum SwrunNetlink {}
