/** Software version reported by GetNodeInfo and `tracenet --version`. */
export const VERSION = '0.1.0';
