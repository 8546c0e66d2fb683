// AssemblyScript's integer type, as TypeScript sees transitions.ts (the file is shared; see its header).
type i32 = number;
