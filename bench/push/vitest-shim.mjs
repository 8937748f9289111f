// Stand-in for `vitest` when bench/push.mjs bundles test/push/support.ts outside a test run:
// support.ts uses vi.spyOn(obj, method).mockImplementation(fn) … mockRestore() only.
export const vi = {
  spyOn(obj, method) {
    const original = obj[method];
    return {
      mockImplementation(fn) {
        obj[method] = fn;
        return this;
      },
      mockRestore() {
        obj[method] = original;
      },
    };
  },
};
