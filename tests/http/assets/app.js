// test asset
export const ready = true;
